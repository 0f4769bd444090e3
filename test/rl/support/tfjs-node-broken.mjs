// A stand-in for an installed @tensorflow/tfjs-node whose native library does not load.
throw new Error("libtensorflow.so.2: cannot open shared object file: No such file or directory");
