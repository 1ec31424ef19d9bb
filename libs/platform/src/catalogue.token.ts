import { Inject } from '@nestjs/common';

/** Injection token of the process's run catalogue (SPEC §11). */
export const CATALOGUE = Symbol('CATALOGUE');

/** Injects the catalogue: `@InjectCatalogue() catalogue: Catalogue`. */
export const InjectCatalogue = (): ParameterDecorator => Inject(CATALOGUE);
