CREATE TABLE greetings (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_type text NOT NULL,
  username   text,
  at         timestamptz NOT NULL DEFAULT now()
);
