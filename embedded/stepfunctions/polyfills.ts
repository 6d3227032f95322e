/**
 * aws-local-stepfunctions@3 declares Node >= 22 and calls `Promise.withResolvers`
 * (ES2024); we run on Node 20. Import this module before the library.
 */

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const promiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof promiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>(): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A typed `Promise.withResolvers` that works whether or not the runtime has one. */
export function deferred<T>(): Resolvers<T> {
  return (promiseCtor.withResolvers as <U>() => Resolvers<U>)<T>();
}
