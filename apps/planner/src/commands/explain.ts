import path from 'node:path';
import { LOCK_FILE, plan } from '@planner/layering';
import { explainImage, explainPath, resolveTarget, type ExplainData } from '@planner/report';
import { defineCommand } from '../command.js';
import { churnOf, loadContext } from '../context.js';
import { readLockFile } from '../lock.js';
import { renderExplain } from '../render/explain.js';

interface ExplainArgs {
  target: string;
}

export const explainCommand = defineCommand<ExplainArgs, ExplainData>({
  command: 'explain <target>',
  describe: "Why a store path is in an image (its layer and reference chain), or an image's layers",
  builder: (y) =>
    y.positional('target', {
      type: 'string',
      demandOption: true,
      describe: 'A store path (or a file inside one, or part of its name), or an image (name:tag or name)',
    }) as never,
  run: async (argv) => {
    const ctx = await loadContext(argv);
    const committed = (await readLockFile(path.join(ctx.workspace.root, LOCK_FILE)))?.plan;
    const layered = plan(ctx.graph, { ...(committed ? { previous: committed } : {}), ...churnOf(ctx.workspace.config) });
    const target = resolveTarget(ctx.graph, String(argv.target));
    return { data: target.kind === 'image' ? explainImage(ctx.graph, layered, target.ref) : explainPath(ctx.graph, layered, target.path) };
  },
  render: renderExplain,
});
