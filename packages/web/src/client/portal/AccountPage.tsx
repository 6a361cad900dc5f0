/** Your account: profile, password, two-factor authentication, API keys (`/account/:tab`). */
import { Stack, Tabs } from "@mantine/core"
import { IconKey, IconLock, IconShieldLock, IconUser } from "@tabler/icons-react"
import type { PageProps } from "../routes.ts"
import { useNavigate } from "../Router.tsx"
import { ApiKeysPanel } from "./account/ApiKeysPanel.tsx"
import { MfaPanel } from "./account/MfaPanel.tsx"
import { PasswordPanel } from "./account/PasswordPanel.tsx"
import { ProfilePanel } from "./account/ProfilePanel.tsx"
import { PageHeader } from "./Common.tsx"

const tabs = ["profile", "password", "mfa", "api-keys"] as const
type Tab = (typeof tabs)[number]
const isTab = (v: string | null | undefined): v is Tab => tabs.some((t) => t === v)

export const AccountPage = ({ params }: PageProps) => {
  const navigate = useNavigate()
  const tab: Tab = isTab(params["tab"]) ? params["tab"] : "profile"
  return (
    <Stack>
      <PageHeader title="Account" description="Your profile, sign-in security and API keys." />
      <Tabs
        value={tab}
        onChange={(v) => isTab(v) && navigate(v === "profile" ? "/account" : `/account/${v}`, true)}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          <Tabs.Tab value="profile" leftSection={<IconUser size={16} />}>
            Profile
          </Tabs.Tab>
          <Tabs.Tab value="password" leftSection={<IconLock size={16} />}>
            Password
          </Tabs.Tab>
          <Tabs.Tab value="mfa" leftSection={<IconShieldLock size={16} />}>
            Two-factor authentication
          </Tabs.Tab>
          <Tabs.Tab value="api-keys" leftSection={<IconKey size={16} />}>
            API keys
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="profile">
          <ProfilePanel />
        </Tabs.Panel>
        <Tabs.Panel value="password">
          <PasswordPanel />
        </Tabs.Panel>
        <Tabs.Panel value="mfa">
          <MfaPanel />
        </Tabs.Panel>
        <Tabs.Panel value="api-keys">
          <ApiKeysPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  )
}

export default AccountPage
