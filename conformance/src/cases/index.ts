// Every case of the suite, in the order it runs: the seed's stages, bad input, then the extensions.
import type { Case } from '../verdicts.js';
import { stage1Cases } from './stage1.js';
import { stage2Cases } from './stage2.js';
import { stage3Cases } from './stage3.js';
import { stage4Cases } from './stage4.js';
import { stage5Cases } from './stage5.js';
import { badInputCases } from './bad-input.js';
import { extensionsCases } from './extensions.js';
import { codesCases } from './codes.js';

/** Every case, in order. */
export const cases: Case[] = [
  ...stage1Cases,
  ...stage2Cases,
  ...stage3Cases,
  ...stage4Cases,
  ...stage5Cases,
  ...badInputCases,
  ...extensionsCases,
  ...codesCases,
];
