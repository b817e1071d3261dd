// The names of what a tandem client does beyond chat, as both ends say them in their hello, and
// the labels of the library's own channels. They live apart from each feature's code so that the
// initial load names every feature while the code of each loads as a chunk of its own when a
// session uses it (client.ts).

/** Named data channels for the app. */
export const CHANNELS_FEATURE = 'channels';
/** File transfers. */
export const FILES_FEATURE = 'files';
/** The feature both ends name in their hello to compare safety codes. */
export const SAFETY_FEATURE = 'safety';

/** The control channel of file transfers. */
export const FILES_LABEL = 'tandem.files';
/** The prefix of each transfer's data channel. */
export const FILE_DATA_PREFIX = 'tandem.file.';
