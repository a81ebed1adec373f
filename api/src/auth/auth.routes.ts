import Router from '@koa/router';
import { z } from 'zod';
import { allow, userOf } from '../http/roles.ts';
import { inputOf, validate } from '../http/validate.ts';
import { login, logout } from './auth.service.ts';

const LoginInput = {
  body: z
    .object({
      username: z.string().min(1).max(100),
      password: z.string().min(1).max(1000),
      deviceToken: z.string().max(200).nullish(),
    })
    .strict(),
};

export const authRoutes = new Router({ prefix: '/api/auth' })
  .post('/login', allow.public, validate(LoginInput), async (ctx) => {
    const { body } = inputOf(ctx, LoginInput);
    ctx.body = await login(ctx.services, body.username, body.password, ctx.ip, body.deviceToken);
  })
  .post('/logout', allow.authenticated, async (ctx) => {
    await logout(ctx.services, userOf(ctx));
    ctx.status = 204;
  });
