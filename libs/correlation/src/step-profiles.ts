import type { StepProfile } from '@killtrace/schemas';

/** A profile with its regular expressions compiled once. */
export interface CompiledProfile {
  readonly name: string;
  readonly match: {
    readonly namespace?: RegExp;
    readonly pod?: RegExp;
    readonly container?: RegExp;
    readonly image?: RegExp;
  };
  readonly ready?: RegExp;
  readonly steps: ReadonlyArray<{ readonly name: string; readonly start: RegExp; readonly end?: RegExp }>;
}

/** Compiles a validated profile's patterns. */
export function compileProfile(profile: StepProfile): CompiledProfile {
  const re = (source: string | undefined): RegExp | undefined => (source === undefined ? undefined : new RegExp(source));
  return {
    name: profile.name,
    match: {
      namespace: re(profile.match.namespace),
      pod: re(profile.match.pod),
      container: re(profile.match.container),
      image: re(profile.match.image),
    },
    ready: re(profile.ready),
    steps: profile.steps.map((step) => ({ name: step.name, start: new RegExp(step.start), end: re(step.end) })),
  };
}

export interface ProfileTarget {
  namespace: string;
  pod: string;
  container: string;
  image?: string;
}

/** The first profile whose every given `match` key matches; an `image` key never matches an unknown image. */
export function findProfile(profiles: readonly CompiledProfile[], target: ProfileTarget): CompiledProfile | undefined {
  return profiles.find((profile) => {
    const { namespace, pod, container, image } = profile.match;
    if (namespace && !namespace.test(target.namespace)) return false;
    if (pod && !pod.test(target.pod)) return false;
    if (container && !container.test(target.container)) return false;
    if (image && (target.image === undefined || !image.test(target.image))) return false;
    return true;
  });
}
