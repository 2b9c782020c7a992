// autocannon ships no type declarations; bench/serve/load.ts uses its documented options and result fields.
declare module 'autocannon';
