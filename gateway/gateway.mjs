#!/usr/bin/env node
/**
 * Qunguan's gateway: a wechaty-puppet-service server in front of any Wechaty puppet, in
 * plaintext gRPC (the only thing the Python client speaks), on loopback or a private address.
 *
 *   node gateway/gateway.mjs [--puppet NAME] [--listen HOST:PORT]
 *
 * NAME: padlocal | xp | wechat4u | mock | any installed package (wechaty-puppet-*, @scope/pkg)
 *       (default $WECHATY_PUPPET). Short names get the `wechaty-puppet-` prefix.
 * Environment:
 *   WECHATY_PUPPET_SERVICE_TOKEN     the token `qunguan run` presents (required; the same
 *                                    variable qunguan reads, so one environment file serves both)
 *   WECHATY_PUPPET_SERVICE_ENDPOINT  where to listen when --listen is not given (the address
 *                                    qunguan connects to); default 127.0.0.1:8788
 *   WECHATY_PUPPET_TOKEN             the puppet's own token (padlocal's), passed as its `token`
 *   WECHATY_PUPPET_OPTIONS           JSON: more options for the puppet's constructor
 *
 * Prints one ready line on stdout once it accepts connections; scans, logins and logouts go
 * to stderr. A configuration mistake is one line on stderr and exit status 2.
 * The mock puppet (no WeChat account) logs a bot in and is driven over stdin: see mock.mjs.
 */
import net from 'node:net'
import { parseArgs } from 'node:util'

// Keep stdout for the ready line (and the mock's control channel): brolog logs with console.info.
console.info = console.log = console.debug = (...args) => console.error(...args)

const DEFAULT_LISTEN = '127.0.0.1:8788'
// What to install for the puppets people ask about, at versions known to start with this gateway.
const INSTALL = {
  'wechaty-puppet-padlocal': 'wechaty-puppet-padlocal@1.20.1',
  'wechaty-puppet-xp': 'wechaty-puppet-xp@1.13.12',
  'wechaty-puppet-wechat4u': 'wechaty-puppet-wechat4u@1.14.14',
}
// Not on the npm registry: its vendor hands out the package.
const VENDOR_PACKAGES = new Set(['wechaty-puppet-workpro'])

const fail = (line, code = 2) => {
  process.stderr.write(`qunguan-gateway: ${line}\n`)
  process.exit(code)
}

/** `padlocal` -> `wechaty-puppet-padlocal`; full and scoped package names stay as they are. */
const packageName = (name) =>
  name.startsWith('@') || name.startsWith('wechaty-puppet') || name.includes('/') ? name : `wechaty-puppet-${name}`

const PRIVATE = new net.BlockList()
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4')
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4')
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4')
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4')
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4') // carrier-grade NAT: VPN overlays (Tailscale, WireGuard)
PRIVATE.addSubnet('169.254.0.0', 16, 'ipv4')
PRIVATE.addAddress('::1', 'ipv6')
PRIVATE.addSubnet('fc00::', 7, 'ipv6')
PRIVATE.addSubnet('fe80::', 10, 'ipv6')

/** [host, port] of a loopback or private HOST:PORT; a reason string otherwise. */
const checkListen = (listen) => {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(listen)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return `--listen ${listen}: expected HOST:PORT, e.g. ${DEFAULT_LISTEN}`
  const host = m[1] === 'localhost' ? '127.0.0.1' : m[1]
  const family = net.isIP(host)
  if (!family) return `--listen ${listen}: HOST must be an IP address (127.0.0.1, or this machine's private address)`
  if (!PRIVATE.check(host, family === 6 ? 'ipv6' : 'ipv4')) {
    return `--listen ${listen}: refusing ${host}: the Python client speaks plaintext gRPC, so the gateway ` +
      'listens only on loopback or a private address (127.0.0.1, 10.x, 172.16-31.x, 192.168.x, 100.64/10, fc00::/7)'
  }
  return [host, Number(m[2])]
}

/** The puppet class a package exports: its default export, else its first `Puppet*` class. */
const puppetClass = (mod) => {
  if (typeof mod.default === 'function') return mod.default
  return Object.entries(mod).find(([k, v]) => /^Puppet/.test(k) && typeof v === 'function')?.[1]
}

const loadPuppet = async (pkg) => {
  try {
    return puppetClass(await import(pkg))
  } catch (e) {
    if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(`'${pkg}'`)) {
      const how = VENDOR_PACKAGES.has(pkg)
        ? `${pkg} is not on the npm registry: install the package its vendor gives you with \`npm install --prefix gateway <package or tarball>\``
        : `install it with \`npm install --prefix gateway ${INSTALL[pkg] || pkg}\``
      fail(`puppet package ${pkg} is not installed: ${how}`)
    }
    fail(`puppet package ${pkg} failed to load: ${e && e.message ? e.message.split('\n')[0] : e}`, 1)
  }
}

const main = async () => {
  const { values: argv } = parseArgs({
    options: {
      puppet: { type: 'string', default: process.env.WECHATY_PUPPET },
      listen: { type: 'string', default: process.env.WECHATY_PUPPET_SERVICE_ENDPOINT || DEFAULT_LISTEN },
      help: { type: 'boolean', default: false },
    },
  })
  if (argv.help) {
    process.stdout.write('usage: node gateway/gateway.mjs [--puppet padlocal|xp|mock|PACKAGE] [--listen HOST:PORT]\n')
    return
  }
  if (!argv.puppet) {
    fail('no puppet named: pass --puppet padlocal (or xp, mock, a package name) or set WECHATY_PUPPET')
  }
  const token = (process.env.WECHATY_PUPPET_SERVICE_TOKEN || '').trim()
  if (!token) {
    fail('no token: set WECHATY_PUPPET_SERVICE_TOKEN to a secret string; qunguan run presents the same one')
  }
  const listen = checkListen(argv.listen)
  if (typeof listen === 'string') fail(listen)
  let options = {}
  try {
    options = JSON.parse(process.env.WECHATY_PUPPET_OPTIONS || '{}')
  } catch (e) {
    fail(`WECHATY_PUPPET_OPTIONS is not JSON (${e.message}): e.g. {"uos": true}`)
  }
  if (process.env.WECHATY_PUPPET_TOKEN) options.token = process.env.WECHATY_PUPPET_TOKEN

  const pkg = packageName(argv.puppet)
  process.env.WECHATY_LOG = process.env.WECHATY_LOG || 'warn'
  const Puppet = await loadPuppet(pkg)
  if (!Puppet) fail(`${pkg} exports no puppet class: is it a Wechaty puppet package?`)
  const { PuppetServer, log } = await import('wechaty-puppet-service')
  log.level(process.env.WECHATY_LOG)

  let puppet
  try {
    puppet = pkg === 'wechaty-puppet-mock' ? (await import('./mock.mjs')).mockPuppet(Puppet, options) : new Puppet(options)
  } catch (e) {
    fail(`${pkg} refused its options: ${e && e.message ? e.message.split('\n')[0] : e}`)
  }
  const say = (line) => process.stderr.write(`qunguan-gateway: ${line}\n`)
  puppet.on('scan', ({ qrcode, status }) => {
    say(`scan (status ${status})${qrcode ? `: open https://wechaty.js.org/qrcode/${encodeURIComponent(qrcode)} and scan it with the bot's WeChat` : ''}`)
  })
  puppet.on('login', ({ contactId }) => say(`logged in as ${contactId}`))
  puppet.on('logout', ({ contactId, data }) => say(`logged out ${contactId}${data ? ` (${data})` : ''}`))
  puppet.on('error', (e) => say(`puppet error: ${e && e.data ? e.data : JSON.stringify(e)}`))

  const [host, port] = listen
  const endpoint = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  // The Python client speaks plaintext only; the address check above keeps it off public networks.
  process.env.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER = 'true'
  const server = new PuppetServer({ endpoint, puppet, token, tls: { disable: true } })

  let stopping = false
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    const timer = setTimeout(() => process.exit(0), 5000)
    try {
      await server.stop()
      await puppet.stop()
    } catch (e) {
      say(`while stopping: ${e && e.message ? e.message : e}`)
    }
    clearTimeout(timer)
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)

  try {
    await server.start()
  } catch (e) {
    const reason = e && e.message ? e.message.split('\n')[0] : String(e)
    fail(/address|EADDRINUSE|bind/i.test(reason)
      ? `cannot listen on ${endpoint} (${reason}): is another gateway running there? pick another port with --listen`
      : `server failed to start: ${reason}`, 1)
  }
  process.stdout.write(`qunguan-gateway ready: ${pkg} on ${endpoint} (plaintext gRPC; ` +
    `qunguan run: WECHATY_PUPPET_SERVICE_ENDPOINT=${endpoint})\n`)
}

await main()
