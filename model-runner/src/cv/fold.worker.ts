/** Entry module of the fold worker threads (started by cross-validate.ts when `workers` > 1). */
import { serveTasks } from '../../../lib/imaging/worker-pool.ts';
import { foldTasks } from './folds.ts';

serveTasks(foldTasks);
