import { html, svg, TemplateResult } from 'lit';
import { addDays, formatDate } from '../format';

export interface WeekBucket {
  start: Date;
  end: Date;
  /** Relationships that will end (no auto-extend). */
  ending: number;
  /** Relationships set to auto-extend, shown only when the page includes them. */
  extending: number;
}

/** Splits the next `days` days from `now` into weeks and counts the end dates falling in each. */
export function weeklyBuckets(
  now: Date,
  days: number,
  ends: { endDateTime: string; extends: boolean }[],
): WeekBucket[] {
  const weeks = Math.ceil(days / 7);
  const buckets: WeekBucket[] = Array.from({ length: weeks }, (_, index) => ({
    start: addDays(now, index * 7),
    end: addDays(now, Math.min((index + 1) * 7, days)),
    ending: 0,
    extending: 0,
  }));
  for (const item of ends) {
    const offset = (new Date(item.endDateTime).getTime() - now.getTime()) / (7 * 24 * 3600 * 1000);
    const index = Math.max(0, Math.floor(offset));
    if (index >= weeks) continue;
    if (item.extends) buckets[index].extending++;
    else buckets[index].ending++;
  }
  return buckets;
}

const width = 760;
const height = 180;
const top = 18;
const bottom = 34;
const left = 8;

/**
 * Relationships ending per week, as bars (SPEC §17: people would rather look than read here). The
 * picture has a one-sentence name for screen readers, and the same numbers as a table beside it.
 */
export function weeklyChart(buckets: WeekBucket[], includeExtending: boolean): TemplateResult {
  const total = (bucket: WeekBucket) => bucket.ending + (includeExtending ? bucket.extending : 0);
  const highest = Math.max(1, ...buckets.map(total));
  const slot = (width - left * 2) / buckets.length;
  const barWidth = slot * 0.64;
  const scale = (height - top - bottom) / highest;
  const busiest = buckets.reduce((best, bucket) => (total(bucket) > total(best) ? bucket : best), buckets[0]);
  const sum = buckets.reduce((count, bucket) => count + total(bucket), 0);
  const summary =
    sum === 0
      ? 'No relationship ends in the next 90 days.'
      : `${sum} relationships end in the next 90 days; the busiest week starts ${formatDate(busiest.start)} with ${total(busiest)}.`;
  return html`<figure class="chart card">
    <figcaption id="chart-caption">Relationships ending per week, next 90 days</figcaption>
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-caption chart-summary">
      <line class="axis" x1=${left} x2=${width - left} y1=${height - bottom} y2=${height - bottom}></line>
      ${buckets.map((bucket, index) => {
        const x = left + index * slot + (slot - barWidth) / 2;
        const endingHeight = bucket.ending * scale;
        const extendingHeight = includeExtending ? bucket.extending * scale : 0;
        const base = height - bottom;
        return svg`<g>
          <rect class="bar" x=${x} width=${barWidth} y=${base - endingHeight} height=${endingHeight}></rect>
          <rect class="bar extending" x=${x} width=${barWidth} y=${base - endingHeight - extendingHeight} height=${extendingHeight}></rect>
          ${total(bucket) > 0 ? svg`<text class="count" x=${x + barWidth / 2} y=${base - endingHeight - extendingHeight - 4} text-anchor="middle">${total(bucket)}</text>` : ''}
          <text x=${x + barWidth / 2} y=${height - bottom + 14} text-anchor="middle">${formatDate(bucket.start).slice(5)}</text>
        </g>`;
      })}
    </svg>
    <p id="chart-summary" class="muted">${summary}</p>
    <div class="legend">
      <span><span class="swatch"></span>Will end</span>
      ${includeExtending ? html`<span><span class="swatch extending"></span>Auto-extending</span>` : ''}
    </div>
    <details>
      <summary>Show the numbers as a table</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Week</th>
            <th scope="col">Will end</th>
            ${includeExtending ? html`<th scope="col">Auto-extending</th>` : ''}
          </tr>
        </thead>
        <tbody>
          ${buckets.map(
            (bucket) =>
              html`<tr>
                <td>${formatDate(bucket.start)} – ${formatDate(addDays(bucket.end, -1))}</td>
                <td>${bucket.ending}</td>
                ${includeExtending ? html`<td>${bucket.extending}</td>` : ''}
              </tr>`,
          )}
        </tbody>
      </table>
    </details>
  </figure>`;
}
