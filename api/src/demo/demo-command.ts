/**
 * The command the start banner prints for loading the demo: `npm run demo`, with the port when the server is not
 * on the default one (the demo script's default URL follows PORT), and the admin password when this start
 * generated it (the script asks for it otherwise).
 */
export function demoCommand(port: number, generatedPassword: string | null): string {
  return [
    port !== 8080 ? `PORT=${port}` : null,
    generatedPassword ? `PLATINA_ADMIN_PASSWORD=${generatedPassword}` : null,
    'npm run demo',
  ]
    .filter(Boolean)
    .join(' ');
}
