/** Every queued and running request (admins get them in GET /v1/queue), each with Cancel. */
import { formatMs } from "../format.js";

export interface QueueRequestWire {
  id: string;
  model: string;
  priority: string;
  state: string;
  position: number | null;
  waited_ms: number;
}

export function QueueTable(props: { requests: QueueRequestWire[]; onCancel: (id: string) => void }) {
  return (
    <div class="table-wrap" tabIndex={0}>
      <table id="queue-requests">
        <thead>
          <tr>
            <th scope="col">Request</th>
            <th scope="col">Model</th>
            <th scope="col">Priority</th>
            <th scope="col">State</th>
            <th scope="col">Position</th>
            <th scope="col">Waited</th>
            <th scope="col">Cancel</th>
          </tr>
        </thead>
        <tbody>
          {props.requests.map((request) => (
            <tr key={request.id}>
              <td>{request.id}</td>
              <td>{request.model}</td>
              <td>{request.priority}</td>
              <td>{request.state}</td>
              <td>{request.position ?? "–"}</td>
              <td>{formatMs(request.waited_ms)}</td>
              <td>
                <button
                  type="button"
                  onClick={() => props.onCancel(request.id)}
                  aria-label={`Cancel ${request.id}`}
                >
                  Cancel
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
