export * from './decode.js';
export * from './encode.js';
export * from './hostname.js';
export * from './logfmt.js';
export * from './sign.js';
export * from './types.js';
