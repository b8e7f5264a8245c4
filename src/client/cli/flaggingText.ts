import { describeThreshold, type JobFlagging } from '../../results/flagging';

/** How the CLI says which rule flagged a job's rows (`nomaly anomalies`, `detect --wait`). */

const RULE_FROM: Record<JobFlagging['ruleFrom'], string> = { job: "the job's rule", model: "the model's rule", default: 'the default rule' };

/** The rule line: which rule flagged the rows and where they stop. */
export function flaggingLine(flagging: JobFlagging | null): string {
  if (!flagging) return "flagged by: the model's threshold (the job ran before threshold rules were recorded)";
  const cutoff = flagging.cutoff !== null ? `score > ${flagging.cutoff}` : flagging.flagged === 0 ? 'none (no row qualified)' : 'none (every row qualified)';
  const tie = flagging.excludedByTie ? `, ${flagging.excludedByTie} left out by a tie at the boundary` : '';
  const calibration = flagging.calibrationScores !== undefined ? `; p-values against ${flagging.calibrationScores} calibration scores` : '';
  return `flagged by: ${describeThreshold(flagging.rule)}, ${RULE_FROM[flagging.ruleFrom]}; cutoff ${cutoff}; ${flagging.flagged} of ${flagging.candidates} candidates${tie}${calibration}`;
}

