// The plugin lanes, by name: `npm run lane:<name>` = `tsx cluster/lane/cli.ts <name>`. One file per lane under
// lanes/, each a LaneSpec (lane.ts): what it brings up, what the run must find, the plugin's known results.
import type { LaneSpec } from './lane.ts';
import { cilium } from './lanes/cilium.ts';
import { ciliumKpr } from './lanes/cilium-kpr.ts';
import { flannel } from './lanes/flannel.ts';
import { knp } from './lanes/knp.ts';

export const LANES: Record<string, LaneSpec> = Object.fromEntries([cilium, ciliumKpr, flannel, knp].map((l) => [l.name, l]));
