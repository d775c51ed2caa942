/**
 * The `arima` package's automatic ARIMA (a WASM build of the C library ctsa), wrapped so that it stays
 * quiet and says which order it chose.
 *
 * The package's entry point builds its WASM module with the C library's output going to the console, and
 * the library prints optimizer notes ("non-stationary AR part", "Program Exiting as the function returns
 * NaN") even with `verbose: false`. The chosen order is not part of its API either: it only appears in
 * the summary printed with `verbose: true`. So the module is built here from the package's own three
 * files with `print`/`printErr` collecting that output, which is then read for the order and dropped.
 * Those files are the layout of arima 0.2.x: should a release move them, loading fails with a clear
 * "Cannot find module" (ARIMA forecasts become unavailable) and the tests fail.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

type ArimaConstructor = typeof import('arima');

export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
}

export interface AutoArimaFit {
  /** The forecast of the next `steps` values of the series. */
  predictions: number[];
  /** The package's forecast-error variance (mean squared error) for each of those steps. */
  variances: number[];
  /** The order the search chose; null if the package's summary did not name one. */
  order: ArimaOrder | null;
}

interface Runtime {
  ARIMA: ArimaConstructor;
  output: string[];
}

const require = createRequire(import.meta.url);

/** Built on first use, so that importing the plugin never compiles the WASM module. */
let runtime: Runtime | undefined;

function loadRuntime(): Runtime {
  if (runtime) return runtime;
  const packageDir = path.dirname(require.resolve('arima'));
  const createModule = require(path.join(packageDir, 'wasm/native-sync.js'));
  const wasmBinary = require(path.join(packageDir, 'wrapper/native.bin.js'));
  const bindArima = require(path.join(packageDir, 'load.js'));
  const output: string[] = [];
  const collect = (line: string) => output.push(line);
  runtime = { ARIMA: bindArima(createModule({ wasmBinary, print: collect, printErr: collect })), output };
  return runtime;
}

const ORDER_LINE = /ARIMA Seasonal Order : \(\s*(\d+),\s*(\d+),\s*(\d+)\)/;

function chosenOrder(output: readonly string[]): ArimaOrder | null {
  for (const line of output) {
    const match = ORDER_LINE.exec(line);
    if (match) return { p: Number(match[1]), d: Number(match[2]), q: Number(match[3]) };
  }
  return null;
}

/**
 * Fits the package's automatic ARIMA (stepwise search up to ARIMA(5,2,5), no seasonal part) to `series`
 * and forecasts `steps` values. The output is returned as the package gives it, unchecked: callers must
 * judge it. They must, because the package cannot forecast a model without AR and MA terms, which the
 * search picks for a random walk such as about half of all 250-session spans of the S&P 500: for
 * ARIMA(0,1,0) it returns near-zero denormals as the predictions and values of the input series as the
 * variances, for ARIMA(0,0,0) the right predictions but again input values as the variances.
 * Throws whatever the package throws.
 */
export function fitAutoArima(series: readonly number[], steps: number): AutoArimaFit {
  const { ARIMA, output } = loadRuntime();
  output.length = 0;
  try {
    const model = new ARIMA({ auto: true, verbose: true }).train([...series]);
    const [predictions, variances] = model.predict(steps);
    model.destroy();
    return { predictions, variances, order: chosenOrder(output) };
  } catch (error) {
    // A failed WASM call can leave the module aborted: drop it (and any model in it), build afresh next time.
    runtime = undefined;
    throw error;
  }
}
