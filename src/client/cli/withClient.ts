import { NomalyClient, type TemporalConnect } from '../nomalyClient';

/**
 * Runs one command's work with a client, and closes it whatever happens. Commands that only
 * read or edit the registry pass `temporal: 'on-first-use'`, so they work with Temporal down.
 */
export async function withClient<T>(work: (client: NomalyClient) => Promise<T>, options: { temporal?: TemporalConnect } = {}): Promise<T> {
  const client = await NomalyClient.connect(undefined, options);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
