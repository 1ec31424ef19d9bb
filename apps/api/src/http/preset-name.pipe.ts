import { Injectable, PipeTransform } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@app/common';
import { parsePresetName } from '@app/backtest';

/** A preset's name in a path, NFC-normalised; one that breaks the rule names no preset (404). */
@Injectable()
export class PresetNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    try {
      return parsePresetName(value);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new NotFoundError(`No preset named ${JSON.stringify(value)}`);
    }
  }
}
