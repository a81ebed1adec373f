/** Entry module of the evidence worker threads (started by `evidence-pool.ts`). */
import { serveTasks } from '../../../lib/imaging/worker-pool.ts';
import { evidenceTasks } from './evidence-tasks.ts';

serveTasks(evidenceTasks);
