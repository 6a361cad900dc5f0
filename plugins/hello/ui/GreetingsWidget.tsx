/**
 * hello's dashboard widget: who hello greeted (its `GET /greetings`), and a
 * form that asks hello to greet a name (`POST /echo`). Built by the platform
 * with React, React Query and the SDK shared with the console.
 */
import {
  Alert,
  ApiError,
  Badge,
  Button,
  fieldErrors,
  Group,
  Loader,
  notify,
  Stack,
  Text,
  TextInput,
  usePluginApi
} from "@streamspace/web/sdk"
import { useMutation, useQuery } from "@tanstack/react-query"
import { type FormEvent, useState } from "react"

interface Greetings {
  readonly greeting: string
  readonly usernames: ReadonlyArray<string | null>
  readonly ticks: number
}

const GreetingsWidget = () => {
  const api = usePluginApi()
  const greetings = useQuery({
    queryKey: ["plugin", api.plugin, "greetings"],
    queryFn: () => api.get<Greetings>("/greetings")
  })
  const [name, setName] = useState("")
  const echo = useMutation({
    mutationFn: (value: string) => api.post<{ message: string }>("/echo", { name: value }),
    onSuccess: (answer) => {
      notify({ title: "hello says", message: answer.message, color: "green" })
      setName("")
    }
  })
  const nameError = echo.error instanceof ApiError ? fieldErrors(echo.error.problem)["name"] : undefined
  const submit = (e: FormEvent) => {
    e.preventDefault()
    echo.mutate(name.trim())
  }

  if (greetings.isPending) return <Loader size="sm" aria-label="Loading greetings" />
  if (greetings.isError)
    return (
      <Alert color="red" title="Greetings could not be loaded">
        {greetings.error.message}
      </Alert>
    )
  const names = greetings.data.usernames.filter((n): n is string => n !== null)
  return (
    <Stack gap="sm">
      <Group gap="xs">
        <Text size="sm">
          Greeting: <strong>{greetings.data.greeting}</strong>
        </Text>
        <Badge variant="light">{names.length} greeted</Badge>
      </Group>
      {names.length === 0 ? (
        <Text size="sm" c="dimmed">
          Nobody greeted yet: hello greets every new user.
        </Text>
      ) : (
        <Group gap={4} aria-label="Greeted users">
          {names.slice(-8).map((n, i) => (
            <Badge key={`${n}-${i}`} variant="outline">
              {n}
            </Badge>
          ))}
        </Group>
      )}
      <form onSubmit={submit} noValidate>
        <Group align="flex-end" gap="xs">
          <TextInput
            label="Name to greet"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={nameError ?? (echo.error && !nameError ? echo.error.message : undefined)}
            style={{ flex: 1 }}
          />
          <Button type="submit" loading={echo.isPending} disabled={name.trim() === ""}>
            Greet
          </Button>
        </Group>
      </form>
    </Stack>
  )
}

export default GreetingsWidget
