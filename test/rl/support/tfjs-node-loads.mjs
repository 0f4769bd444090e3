// A stand-in for a working @tensorflow/tfjs-node (see fake-tfjs-node.mjs).
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";

tf.registerBackend("tensorflow", () => new MathBackendCPU(), 3);
