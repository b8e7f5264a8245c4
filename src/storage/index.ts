export * from './objectStore';
export * from './keys';
export * from './hashingStream';
