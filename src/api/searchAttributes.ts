import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Search attributes that make jobs findable in the Temporal UI, e.g.
 * `NomalyModel = "cardio" AND NomalyJobStatus = "running"`. The stack scripts register them.
 */
export const SEARCH_ATTRIBUTES = {
  model: defineSearchAttributeKey('NomalyModel', SearchAttributeType.KEYWORD),
  dataset: defineSearchAttributeKey('NomalyDataset', SearchAttributeType.KEYWORD),
  jobStatus: defineSearchAttributeKey('NomalyJobStatus', SearchAttributeType.KEYWORD),
} as const;

/** Set by Temporal on a run a Schedule started: the time it was due (a late run still knows which window is its). */
export const SCHEDULED_START_TIME = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export const SEARCH_ATTRIBUTE_REGISTRATIONS = Object.values(SEARCH_ATTRIBUTES).map((key) => `${key.name}=Keyword`);
