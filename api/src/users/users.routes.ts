import Router from '@koa/router';
import { z } from 'zod';
import { ROLES } from '../../../lib/db/schema.ts';
import { allow, userOf } from '../http/roles.ts';
import { IdParam, inputOf, validate } from '../http/validate.ts';
import { createUser, getUser, listUsers, updateUser } from './users.service.ts';

const Username = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, dot, dash or underscore');
const Password = z.string().min(8, 'must be at least 8 characters').max(200);
const Role = z.enum(ROLES as [string, ...string[]]).transform((r) => r as (typeof ROLES)[number]);

const CreateInput = { body: z.object({ username: Username, password: Password, role: Role }).strict() };
const UpdateInput = {
  params: z.object({ id: IdParam }),
  body: z
    .object({ role: Role.optional(), disabled: z.boolean().optional(), password: Password.optional() })
    .strict()
    .refine((b) => Object.keys(b).length > 0, 'give at least one of role, disabled, password'),
};

export const usersRoutes = new Router({ prefix: '/api/users' })
  .get('/me', allow.authenticated, async (ctx) => {
    const me = await getUser(ctx.services, userOf(ctx).id);
    ctx.body = { id: me.id, username: me.username, role: me.role };
  })
  .get('/', allow('admin', 'lead'), async (ctx) => {
    ctx.body = await listUsers(ctx.services);
  })
  .post('/', allow('admin'), validate(CreateInput), async (ctx) => {
    ctx.status = 201;
    ctx.body = await createUser(ctx.services, inputOf(ctx, CreateInput).body);
  })
  .patch('/:id', allow('admin'), validate(UpdateInput), async (ctx) => {
    const { params, body } = inputOf(ctx, UpdateInput);
    ctx.body = await updateUser(ctx.services, userOf(ctx).id, params.id, body);
  });
