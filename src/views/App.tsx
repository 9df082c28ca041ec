import { CoordinatorPage } from './CoordinatorPage.tsx';
import { NetworkPage } from './NetworkPage.tsx';
import { RequesterPage } from './RequesterPage.tsx';
import { VolunteerPage } from './VolunteerPage.tsx';
import { linkTo, ROUTES, useRoute, type RouteName } from './route.ts';

const TITLES: Record<RouteName, string> = {
  volunteer: 'Volunteer',
  coordinator: 'Coordinator',
  requester: 'Requester',
  network: 'Network map',
};

export function App() {
  const route = useRoute();
  return (
    <div className="app">
      <header>
        <span className="logo">Quorum</span>
        <nav>
          {ROUTES.map((name) => (
            <a key={name} href={linkTo(name, route.networkId)} aria-current={route.name === name ? 'page' : undefined}>
              {TITLES[name]}
            </a>
          ))}
        </nav>
        <span className="muted">network: {route.networkId}</span>
      </header>
      {route.networkError ? <p className="error">{route.networkError}</p> : null}
      <main>
        {route.name === 'volunteer' ? <VolunteerPage route={route} /> : null}
        {route.name === 'coordinator' ? <CoordinatorPage route={route} /> : null}
        {route.name === 'requester' ? <RequesterPage route={route} /> : null}
        {route.name === 'network' ? <NetworkPage route={route} /> : null}
      </main>
    </div>
  );
}
