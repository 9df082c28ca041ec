/**
 * The whole MNIST pipeline, in-process and side-effect free: load the digits, split, train,
 * export. `npm run train:mnist` (scripts/train-mnist.ts) writes what this returns; the test
 * (scripts/train-mnist.test.ts) re-runs it and checks the committed files are byte-identical.
 */
import {
  MNIST_CLASSES,
  MNIST_HEIGHT,
  MNIST_INPUT_NAME,
  MNIST_OUTPUT_NAME,
  MNIST_PIXELS,
  MNIST_WIDTH,
  accuracy,
  argmaxRows,
  encodeMnistHoldout,
} from '../../src/workloads/mnist/holdout.ts';
import { loadMnistDigits, splitDigits, type MnistDigits } from './dataset.ts';
import { forwardMlp, toFloat32, trainMlp, type MlpParams32, type TrainConfig } from './mlp.ts';
import { exportMlpOnnx } from './onnxExport.ts';

/** Exactly this many digits are held out; the rest (8,000 of the package's 10,000) train. */
export const HOLDOUT_COUNT = 2000;
/** Seed of the split shuffle. Changing it changes which digits are held out. */
export const SPLIT_SEED = 20240601;

export const TRAIN_CONFIG: TrainConfig = {
  hidden: 64,
  epochs: 20,
  batchSize: 32,
  learningRate: 0.05,
  finalLearningRate: 0.005,
  momentum: 0.9,
  weightDecay: 1e-4,
  maxShift: 2,
  seed: 1234,
};

export interface MnistTrainResult {
  readonly modelBytes: Uint8Array;
  readonly holdoutBytes: Uint8Array;
  /** Accuracy of the exported (float32) weights on the held-out digits. */
  readonly accuracy: number;
  readonly trainCount: number;
  readonly holdoutCount: number;
  readonly params: MlpParams32;
  readonly holdout: MnistDigits;
}

export function trainMnist(config: TrainConfig = TRAIN_CONFIG, all: MnistDigits = loadMnistDigits()): MnistTrainResult {
  const { train, holdout } = splitDigits(all, HOLDOUT_COUNT, SPLIT_SEED);
  const params = toFloat32(trainMlp({ ...train, width: MNIST_WIDTH, height: MNIST_HEIGHT }, MNIST_CLASSES, config));

  // Evaluate what ships: float32 weights on float32 pixels.
  const logits = forwardMlp(params, holdout.images, holdout.count);
  const acc = accuracy(argmaxRows(logits, MNIST_CLASSES), holdout.labels);

  const images: Float64Array[] = [];
  for (let n = 0; n < holdout.count; n++) images.push(holdout.raw.subarray(n * MNIST_PIXELS, (n + 1) * MNIST_PIXELS));
  const holdoutBytes = encodeMnistHoldout({
    width: MNIST_WIDTH,
    height: MNIST_HEIGHT,
    images,
    labels: Array.from(holdout.labels),
  });

  const modelBytes = exportMlpOnnx(params, {
    inputName: MNIST_INPUT_NAME,
    outputName: MNIST_OUTPUT_NAME,
    docString:
      `MNIST MLP ${MNIST_PIXELS}-${config.hidden}-${MNIST_CLASSES} (ReLU), trained by scripts/train-mnist.ts on ` +
      `${train.count} digits of npm mnist@1.1.0; ${holdout.count} held out (public/data/mnist-holdout.bin). ` +
      `Input: pixels in [0, 1], row-major 28x28. Output: unnormalized logits.`,
  });

  return { modelBytes, holdoutBytes, accuracy: acc, trainCount: train.count, holdoutCount: holdout.count, params, holdout };
}
