// typedarray.prototype.slice (aliases.ts): where the native method works, as on every
// Node.js since 6, the package exports exactly this, the native method bound.
const slice = Uint8Array.prototype.slice;
module.exports = function typedArraySlice(typedArray, start, end) {
  return slice.call(typedArray, start, end);
};
