/** Sign in with an API key: kept in this tab's session storage, sent as a bearer header. */
import { useState } from "preact/hooks";

export function SignIn(props: { message?: string; onKey: (key: string) => void }) {
  const [value, setValue] = useState("");
  return (
    <form
      class="card sign-in"
      aria-labelledby="sign-in-title"
      onSubmit={(event) => {
        event.preventDefault();
        if (value.trim() !== "") props.onKey(value.trim());
      }}
    >
      <h2 id="sign-in-title">Sign in</h2>
      <p>This server requires an API key. It stays in this tab only (session storage).</p>
      {props.message !== undefined && (
        <p role="alert" class="error">
          {props.message}
        </p>
      )}
      <label for="api-key">API key</label>
      <div class="row">
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
        />
        <button type="submit" id="sign-in">
          Sign in
        </button>
      </div>
    </form>
  );
}
