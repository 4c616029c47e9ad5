// The JSON the admin API returns (docs/API.md), as far as the console reads it.

export interface Rate {
  rate: number;
}
export interface MessageStats {
  publish?: number;
  deliver?: number;
  deliver_no_ack?: number;
  get?: number;
  get_no_ack?: number;
  deliver_get?: number;
  ack?: number;
  redeliver?: number;
  // Messages that died in a queue (rejected, expired, maxlen, delivery_limit) and went to its
  // dead-letter exchange: counted on the source queue, summed in /api/overview. Older brokers
  // lack it (the overview then falls back to dead_letter_queues.received).
  dead_lettered?: number;
  publish_details?: Rate;
  deliver_get_details?: Rate;
  ack_details?: Rate;
  redeliver_details?: Rate;
  dead_lettered_details?: Rate;
}

export interface Overview {
  product_name: string;
  product_version: string;
  node: string;
  message_stats: MessageStats;
  queue_totals: { messages: number; messages_ready: number; messages_unacknowledged: number; messages_waiting?: number };
  delayed_messages?: number;
  object_totals: { connections: number; channels: number; exchanges: number; queues: number; consumers: number };
  dead_letter_queues?: { queues: number; messages: number; received: number };
  listeners: { protocol: string; ip_address: string; port: number }[];
}

export interface Node {
  name: string;
  mem_used?: number;
  mem_limit: number;
  mem_alarm: boolean;
  message_bytes?: number;
  disk_free?: number | null;
  disk_free_limit?: number;
  disk_free_alarm: boolean;
}

export type Args = Record<string, unknown>;

export interface Queue {
  name: string;
  vhost: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Args;
  state?: string;
  messages: number;
  messages_ready: number;
  messages_waiting?: number;
  messages_unacknowledged: number;
  message_bytes?: number;
  consumers: number;
  message_stats?: MessageStats;
  dead_letter_target?: boolean;
  dead_letter_sources?: string[];
  consumer_details?: {
    consumer_tag: string;
    channel_details?: { name?: string; connection_name?: string; peer_host?: string };
    ack_required: boolean;
    prefetch_count: number;
    exclusive: boolean;
    active?: boolean;
  }[];
}

export interface Paged<T> {
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  filtered_count: number;
  total_count: number;
  item_count: number;
}

export interface Exchange {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Args;
}

export interface Binding {
  source: string;
  vhost: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: Args;
  properties_key: string;
}

export interface Connection {
  name: string;
  user: string;
  vhost: string;
  peer_host: string;
  peer_port: number;
  channels: number;
  state: string;
  protocol?: string;
  connected_at?: number;
  client_properties?: Record<string, unknown>;
}

export interface Channel {
  name: string;
  number: number;
  user: string;
  vhost: string;
  connection_details?: { name: string };
  prefetch_count: number;
  messages_unacknowledged: number;
  consumer_count: number;
  confirm: boolean;
  transactional: boolean;
  state?: string;
}

export interface Death {
  queue?: string;
  reason?: string;
  count?: number;
  exchange?: string;
  'routing-keys'?: string[];
  time?: number;
  'original-expiration'?: string;
}

export interface BrowsedMessage {
  id: number;
  position: number;
  exchange: string;
  routing_key: string;
  redelivered: boolean;
  delivery_count: number;
  acquired_count: number;
  payload_bytes: number;
  properties: Record<string, unknown> & { headers?: Record<string, unknown>; timestamp?: number };
  x_death: Death[];
  payload: string;
  payload_encoding: 'string' | 'base64';
  payload_json?: unknown;
}

export interface BrowsePage {
  vhost: string;
  queue: string;
  messages_ready: number;
  offset: number;
  limit: number;
  next_offset: number | null;
  items: BrowsedMessage[];
}

export interface RedriveTask {
  id: number;
  vhost: string;
  queue: string;
  to: string | null;
  rate: number;
  state: 'running' | 'finished' | 'cancelled' | 'failed';
  total: number;
  moved: number;
  skipped: number;
  remaining: number;
  error: string;
}

// A message waiting for its due time: retrying in a queue (GET /api/queues/{vhost}/{q}/waiting) or
// held by an x-delayed-message exchange (GET /api/delayed/{vhost}).
export interface WaitingMessage {
  id: number | string;
  position: number;
  exchange: string;
  routing_key: string;
  payload_bytes: number;
  properties: Record<string, unknown> & { headers?: Record<string, unknown> };
  x_death: Death[];
  payload: string;
  payload_encoding: 'string' | 'base64';
  payload_json?: unknown;
  due_unix_ms: number;
  due: string;
  due_in_ms: number;
  delivery_count?: number;
  acquired_count?: number;
}

export interface WaitingPage {
  vhost: string;
  queue?: string;
  messages_waiting?: number;
  delayed_messages?: number;
  not_shown?: number;
  offset: number;
  limit: number;
  next_offset: number | null;
  items: WaitingMessage[];
}
