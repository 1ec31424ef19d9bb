import { Injectable, PipeTransform } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@app/common';
import { parseSymbol } from '@app/data';

/**
 * A symbol in a path: upper-cased as the layout names it; anything that is not a symbol
 * (SPEC §2) names none, so it is a 404 like an unknown one, and no path is built from it.
 */
@Injectable()
export class SymbolPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    try {
      return parseSymbol(value);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      throw new NotFoundError(`No symbol ${JSON.stringify(value)}: symbols are BASE_QUOTE`);
    }
  }
}
