-- keycard-strip.lua: lighttpd mod_magnet, beside keycard-fcgi as a FastCGI
-- authorizer. Removes the client's headers that could pose as identity
-- before mod_cgi builds the program's environment.
--
-- In the authorizer role keycard cannot touch the request: lighttpd hands
-- every client header to the program as HTTP_*, the bearer token included.
-- This script runs at the physical-path stage, which lighttpd passes twice:
-- before the authorizer (nothing to do yet: keycard still needs the token)
-- and again when keycard has allowed and lighttpd restarts the request with
-- keycard's Variable-* lines in its environment. KEYCARD_DECISION=allow is
-- keycard's mark; a client cannot set the server's request environment.
--
-- Removed then, as keycard's gateway does (ARCHITECTURE.md, "Identity"):
--   X-Keycard-* (any spelling lighttpd maps to HTTP_X_KEYCARD_*),
--   Proxy (httpoxy; lighttpd drops it too),
--   Authorization (unless pass_token below is true),
--   any header whose CGI name is one keycard exported (header "X-..." = ...).
--
--   server.modules += ( "mod_magnet" )    # after mod_fastcgi
--   magnet.attract-physical-path-to = ( "/usr/share/keycard/lighttpd/keycard-strip.lua" )
--
-- Needs lighttpd >= 1.4.65 (lighty.r) and mod_magnet (Debian: lighttpd-modules-lua).

local pass_token = false   -- true: the program also gets the bearer token

local r = lighty.r
local env = r.req_env
if env["KEYCARD_DECISION"] ~= "allow" then
	return 0
end

-- lighttpd's own mapping (http_cgi.c): upper case, every other byte '_'.
local function cgi_name(header)
	return "HTTP_" .. (header:upper():gsub("[^%w]", "_"))
end

local drop = {}
for name in pairs(r.req_header) do
	local cgi = cgi_name(name)
	if cgi == "HTTP_X_KEYCARD" or cgi:sub(1, 15) == "HTTP_X_KEYCARD_"
	    or cgi == "HTTP_PROXY"
	    or (cgi == "HTTP_AUTHORIZATION" and not pass_token)
	    or env[cgi] ~= nil then
		drop[#drop + 1] = name
	end
end
for _, name in ipairs(drop) do
	r.req_header[name] = nil
end
return 0
