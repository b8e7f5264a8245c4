export * from './objectStore';
export * from './keys';
