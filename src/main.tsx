import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { attachUi } from './host/uiPorts.ts';
import { storePorts } from './stores/store.ts';
import { installTestHook } from './testHook.ts';
import { App } from './views/App.tsx';
import './views/app.css';

// Hosts write what the page shows through these ports; views read the same store.
attachUi(storePorts());
if (import.meta.env.MODE === 'test') installTestHook();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
