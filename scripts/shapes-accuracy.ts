/**
 * How often the shapes model draws what its prompt names: every (colour, background) pair of the palette,
 * one shape and seed each, 20 DDIM steps at guidance 7.5; the centre's and border's dominant palette colour
 * against the prompt's. Prints the accuracy and the confusions (the model card's figures).
 *
 *   node --import tsx scripts/shapes-accuracy.ts [--model DIR]
 */
import { parseArgs } from 'node:util';
import { SHAPES_MODEL_DIR } from '../src/models/builtin.ts';
import { borderRegion, centreRegion, readShapesDataset, regionColors, shapesCaption } from '../src/models/shapes-palette.ts';
import { generate } from '../src/pipeline/generate.ts';

const { values } = parseArgs({ options: { model: { type: 'string', default: SHAPES_MODEL_DIR } } });
const dataset = readShapesDataset();
const colors = Object.keys(dataset.colors);
let n = 0;
let shapeOk = 0;
let bgOk = 0;
const confusions: Record<string, number> = {};
for (const [i, color] of colors.entries()) {
  for (const [j, background] of colors.entries()) {
    if (color === background) continue;
    const shape = dataset.shapes[(i + j) % dataset.shapes.length];
    const prompt = shapesCaption(color, shape, background);
    const { image } = await generate({
      model: values.model,
      settings: { prompt, negativePrompt: '', seed: n, noise: 'torch-cpu', steps: 20, scheduler: 'ddim', guidanceScale: 7.5, height: dataset.size, width: dataset.size },
    });
    const centre = regionColors(image, dataset.colors, centreRegion(image, dataset.size)).dominant;
    const border = regionColors(image, dataset.colors, borderRegion(image, dataset.size)).dominant;
    n++;
    if (centre === color) shapeOk++;
    else confusions[`shape ${color}→${centre}`] = (confusions[`shape ${color}→${centre}`] ?? 0) + 1;
    if (border === background) bgOk++;
    else confusions[`background ${background}→${border}`] = (confusions[`background ${background}→${border}`] ?? 0) + 1;
  }
}
process.stdout.write(`prompts: ${n}\nshape colour right: ${shapeOk}/${n} (${((100 * shapeOk) / n).toFixed(1)} %)\n`);
process.stdout.write(`background colour right: ${bgOk}/${n} (${((100 * bgOk) / n).toFixed(1)} %)\n`);
process.stdout.write(`confusions: ${JSON.stringify(Object.fromEntries(Object.entries(confusions).sort((a, b) => b[1] - a[1])))}\n`);
