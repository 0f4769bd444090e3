// `node --import ./fake-tfjs-node.mjs`: makes `@tensorflow/tfjs-node` resolve to a stand-in, so
// that the backend rule can be tested whether or not the real optional package is installed.
//   FAKE_TFJS_NODE=loads   a tfjs-node that loads and registers the "tensorflow" backend (the
//                          pure-JS CPU kernels' backend under that name);
//   FAKE_TFJS_NODE=broken  a tfjs-node whose native library cannot be loaded.
import { register } from "node:module";

register(
  `data:text/javascript,${encodeURIComponent(`
    export async function resolve(specifier, context, next) {
      if (specifier !== "@tensorflow/tfjs-node") return next(specifier, context);
      return { url: ${JSON.stringify(new URL(`./tfjs-node-${process.env.FAKE_TFJS_NODE}.mjs`, import.meta.url).href)}, shortCircuit: true };
    }
  `)}`,
);
