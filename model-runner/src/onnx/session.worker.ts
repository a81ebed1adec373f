/** Entry of the ONNX session worker thread (started by `worker-session.ts`). */
import { serveTasks } from '../../../lib/imaging/worker-pool.ts';
import { sessionTasks } from './session-tasks.ts';

serveTasks(sessionTasks);
