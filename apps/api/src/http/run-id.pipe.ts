import { Injectable, PipeTransform } from '@nestjs/common';
import { NotFoundError } from '@app/common';
import { isRunId } from '@app/storage';

/**
 * Task and run ids are UUIDs. Anything else cannot name a task or a run folder, so it is a
 * 404 at once: no Redis lookup, no path is ever built from it. Ids are stored lower case.
 */
@Injectable()
export class RunIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isRunId(value)) {
      throw new NotFoundError(`No task or run with id ${JSON.stringify(value)}: ids are UUIDs`);
    }
    return value.toLowerCase();
  }
}
