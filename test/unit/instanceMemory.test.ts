import { readFileSync } from 'node:fs';
import path from 'node:path';
import { instanceHeapFlags, instanceMemoryMiB } from '../../scripts/instanceMemory';

/** The local host runs with the heap of the instance the Bicep deploys (scripts/instanceMemory.ts). */

const root = path.join(__dirname, '..', '..');

describe("the local host's heap", () => {
  it('is sized for the instance memory the Bicep deploys', () => {
    const bicep = readFileSync(path.join(root, 'infra', 'app', 'api.bicep'), 'utf8');
    expect(/^param instanceMemoryMB int = (\d+)$/m.exec(bicep)?.[1]).toBe(String(instanceMemoryMiB));
    // Node's own sizing on such an instance: half the memory for the old generation (64-bit).
    expect(instanceHeapFlags).toEqual([`--max-old-space-size=${instanceMemoryMiB / 2}`]);
  });

  it('is what `npm start` gives the host', () => {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(manifest.scripts.start).toBe(`npm run build && node ${instanceHeapFlags.join(' ')} dist/scripts/host.js`);
  });
});
