import { z } from 'zod';
import { IdParam } from '../http/validate.ts';

/** Bundle and file names: printable, no path separators (bundles become folder names in exports). */
const Name = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[^\u0000-\u001f\u007f/\\]+$/, 'must not contain slashes or control characters');

export const UploadInput = {
  query: z.object({ bundle: Name(100), name: Name(255) }),
};

const Status = z.enum(['unlabeled', 'pending', 'needs_lead', 'resolved']);

export const ListInput = {
  query: z.object({
    bundle: z.string().min(1).optional(),
    status: Status.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    cursor: z.string().min(1).optional(),
  }),
};

export const ImageParams = { params: z.object({ id: IdParam }) };

export const PreviewInput = {
  params: z.object({ id: IdParam }),
  query: z.object({
    method: z.coerce
      .number()
      .int()
      .refine((m): m is 1 | 2 | 3 | 4 => m >= 1 && m <= 4, 'must be 1, 2, 3 or 4')
      .transform((m) => m as 1 | 2 | 3 | 4),
    width: z.coerce.number().int().min(8).max(8192).optional(),
  }),
};
