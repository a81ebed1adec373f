import { z } from 'zod';
import { IdParam } from '../http/validate.ts';
import { METHODS, type Method } from '../../../lib/imaging/conversions.ts';

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
    /** The image with these bytes, if stored (the browser's upload skips files it already has). */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex')
      .optional(),
    /** `true`: only excluded images; `false`: only included ones; absent: both. */
    excluded: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((v) => v === 'true')
      .optional(),
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
      .refine((m): m is Method => (METHODS as readonly number[]).includes(m), 'must be 1, 2, 3 or 4'),
    width: z.coerce.number().int().min(8).max(8192).optional(),
  }),
};

const Reason = z.string().trim().max(2000, 'must be at most 2000 characters');

export const ExcludeInput = {
  params: z.object({ id: IdParam }),
  body: z
    .object({
      reason: Reason.min(1, 'is required: say why the image is excluded'),
    })
    .strict(),
};

export const RestoreInput = {
  params: z.object({ id: IdParam }),
  query: z.object({ reason: Reason.optional() }),
};
