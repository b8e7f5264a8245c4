import { NomalyClient } from '../nomalyClient';

/** Runs one command's work with a connected client, and closes it whatever happens. */
export async function withClient<T>(work: (client: NomalyClient) => Promise<T>): Promise<T> {
  const client = await NomalyClient.connect();
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}
