/**
 * A cost limit beside the depth limit: the number of fields an operation selects, fragments
 * expanded. Depth alone lets a shallow query ask for the same expensive field thousands of
 * times under aliases; this caps the work one request can ask for.
 */
import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from './errors.js';

/** Most field selections one operation may make. The portal's largest query selects about 40. */
export const MAX_SELECTIONS = 300;

export function countSelections(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  memo = new Map<string, number>(),
  visiting = new Set<string>(),
): number {
  let n = 0;
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD)
      n += 1 + (s.selectionSet ? countSelections(s.selectionSet, fragments, memo, visiting) : 0);
    else if (s.kind === Kind.INLINE_FRAGMENT) n += countSelections(s.selectionSet, fragments, memo, visiting);
    else {
      const name = s.name.value;
      const f = fragments.get(name);
      if (!f || visiting.has(name)) continue; // unknown or cyclic: other rules report those
      if (!memo.has(name)) {
        visiting.add(name);
        memo.set(name, countSelections(f.selectionSet, fragments, memo, visiting));
        visiting.delete(name);
      }
      n += memo.get(name)!;
    }
    if (n > 1e6) return n; // far beyond any limit; stop early
  }
  return n;
}

export function selectionLimitRule(max: number): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
    return {
      OperationDefinition(node) {
        const n = countSelections(node.selectionSet, fragments);
        if (n > max) {
          context.reportError(
            new GraphQLError(
              `the operation selects ${n} fields, more than the ${max} allowed; ask for less or split it up`,
              { nodes: [node], extensions: { code: ErrorCode.BadUserInput, limit: max } },
            ),
          );
        }
      },
    };
  };
}
