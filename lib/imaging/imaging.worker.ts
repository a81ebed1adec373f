/** Entry module of the imaging worker threads (started by `imaging-pool.ts`). */
import { imagingTasks } from './tasks.ts';
import { serveTasks } from './worker-pool.ts';

serveTasks(imagingTasks);
