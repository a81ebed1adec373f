import './app/platina-app.ts';
