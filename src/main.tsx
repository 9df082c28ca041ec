import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { installTestHook } from './testHook.ts';
import { App } from './views/App.tsx';
import './views/app.css';

if (import.meta.env.MODE === 'test') installTestHook();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
