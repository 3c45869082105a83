import { TricenterError } from './errors.ts';

/**
 * A table router for an HTTP trigger: each route is a method and a path pattern. Patterns are
 * literal segments and `:param` segments; a param matches only what its pattern in the router's
 * `params` allows. Segments arrive already percent-decoded one by one (a malformed encoding was
 * refused before routing), so an encoded `/` never splits a segment. After Powertools'
 * event-handler router, without its middleware.
 */
export interface RoutePattern {
  method: string;
  /** e.g. `/apps/:namespace/:name/runs` */
  path: string;
}

export type RouteParams = Record<string, string>;

/** The path matches a route, but not with this method: 405 with the methods that do. */
export class MethodNotAllowed extends TricenterError {
  constructor(
    readonly allow: string[],
    method: string,
    path: string,
  ) {
    super('NOT_FOUND', `${method} is not allowed on ${path}: use ${allow.join(', ')}`);
  }
}

export type Router<R extends RoutePattern> = (method: string, segments: string[], rawPath: string) => { route: R; params: RouteParams };

export function createRouter<R extends RoutePattern>(routes: readonly R[], params: Record<string, RegExp>): Router<R> {
  const compiled = routes.map((route) => ({ route, segments: route.path.split('/').filter(Boolean) }));
  for (const { segments } of compiled) {
    for (const name of segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1))) {
      if (!params[name]) throw new Error(`route parameter :${name} has no pattern`);
    }
  }
  const match = (pattern: string[], segments: string[]): RouteParams | undefined => {
    if (pattern.length !== segments.length) return undefined;
    const found: RouteParams = {};
    for (const [i, part] of pattern.entries()) {
      const segment = segments[i] as string;
      if (!part.startsWith(':')) {
        if (part !== segment) return undefined;
        continue;
      }
      const name = part.slice(1);
      if (!params[name]?.test(segment)) return undefined;
      found[name] = segment;
    }
    return found;
  };
  return (method, segments, rawPath) => {
    const allow: string[] = [];
    for (const { route, segments: pattern } of compiled) {
      const found = match(pattern, segments);
      if (!found) continue;
      if (route.method === method) return { route, params: found };
      allow.push(route.method);
    }
    if (allow.length > 0) throw new MethodNotAllowed([...new Set(allow)], method, rawPath);
    throw new TricenterError('NOT_FOUND', `no route for ${method} ${rawPath}`);
  };
}
