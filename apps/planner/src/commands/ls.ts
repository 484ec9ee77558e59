import { graphFigures, type GraphFigures } from '@planner/graph';
import { defineCommand } from '../command.js';
import { loadContext } from '../context.js';
import { renderLs } from '../render/ls.js';

export interface LsData extends GraphFigures {
  workspace: string;
}

export const lsCommand = defineCommand<object, LsData>({
  command: 'ls',
  describe: 'List every service image with its closure, shared and private bytes',
  builder: (y) => y,
  run: async (argv) => {
    const ctx = await loadContext(argv);
    return { data: { workspace: ctx.workspace.root, ...graphFigures(ctx.graph) } };
  },
  render: renderLs,
});
