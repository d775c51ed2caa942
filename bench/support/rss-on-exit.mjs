// Preloaded into a measured CLI process: on exit it writes its peak RSS (KiB) to the file named by LSTM_BENCH_RSS_FILE.
import { writeFileSync } from 'node:fs';

process.on('exit', () => writeFileSync(process.env.LSTM_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));
