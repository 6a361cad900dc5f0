/**
 * The users a picker offers: the first 20 matching `q`. Every admin picker
 * reads this one query, so the cache key ["users", { q, picker: true }] always
 * holds user items (the quota page once stored select options under it).
 */
import { useQuery } from "@tanstack/react-query"
import { api, unwrap } from "../api/ApiClient.ts"

export const useUserSearch = (q: string, enabled = true) =>
  useQuery({
    queryKey: ["users", { q, picker: true }],
    enabled,
    queryFn: async () =>
      unwrap(await api.GET("/api/users", { params: { query: { limit: "20", ...(q ? { q } : {}) } } })).items
  })
