/** How a long backup step reports progress (an activity heartbeats it; a script may log it). */
export type ReportProgress = (details: object) => void;

/** What long backup steps take besides their input: where to report progress, and when to stop. */
export interface StepControl {
  progress: ReportProgress;
  signal?: AbortSignal;
}
