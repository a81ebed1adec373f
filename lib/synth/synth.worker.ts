/** Entry module of the synthetic-data worker threads (started by `generate.ts` through the shared worker pool). */
import { serveTasks } from '../imaging/worker-pool.ts';
import { synthTasks } from './tasks.ts';

serveTasks(synthTasks);
