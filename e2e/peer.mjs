#!/usr/bin/env node
/**
 * Test peer for Qunguan's e2e tests: a wechaty-puppet-service PuppetServer serving a
 * wechaty-puppet-mock PuppetMock on 127.0.0.1, driven over a JSON-lines control channel.
 *
 *   node peer.mjs --port 18789 [--token T] [--bot-id ID] [--bot-name NAME] [--state FILE] [--no-login]
 *
 * stdin  <- one request per line:  {"req": 1, "op": "contact", "name": "Alice"}
 * stdout -> one reply per request: {"req": 1, "ok": true, "result": {...}}
 *           and notifications:     {"event": "ready", ...} | {"event": "sent", "message": {...}}
 *
 * Ops: contact {id?, name} | room {id?, topic, members, withBot?} (the bot is a member unless
 *      withBot is false; add it later with add {members: ["bot"]}); members who never speak
 *      are simply members that no `say` names
 *      quit {room, member} (leaves without any event, as WeChat does for a member who quits)
 *      alias {room, member, alias} (the member's group nickname, served with room members)
 *      say {from, to, text?, mentions?, kind?, id?, image?} (to: a room id, a contact id or "bot"; id: the
 *      message id, e.g. the same message heard by two bot accounts on two peers; kind "jielong":
 *      text is a 接龙 list, sent as the app message XML of appmsg type 53; image: the base64 of the
 *      picture an image message shows)
 *      redeliver {messageId} (emit the message event again)
 *      add {room, members, by} | remove {room, members, by} | topic {room, topic, by}
 *      sent {} (every message the bot has sent so far) | ping {}
 *      send_delay {ms} (the bot's sends are delivered at once but answered `ms` later)
 *      logout {} | login {} (the bot account logs out / back in)
 *      friend_request {from, name?, hello?, id?} (a stranger asks to be the bot's friend: a real
 *      friendship payload with contact, greeting, type and timestamp; the contact is created
 *      when new, and is not a friend until accepted)
 *      accepts {} | room_adds {} | room_dels {} (the friend requests the bot accepted, the people it
 *      added to rooms, the people it removed from rooms; each also notified as {"event": "accepted"}
 *      / {"event": "room_add"} / {"event": "room_del"}); room {..., owner} makes someone else the
 *      group's owner (the bot owns the rooms it is in otherwise)
 *
 * With --state, the contacts and rooms are written to FILE after every change and read back
 * at start, so a restarted peer (a crashed puppet server) still knows the same account.
 * The process exits when stdin closes.
 *
 * Install: `npm ci` in this directory (versions pinned by package-lock.json).
 */
import fs from 'node:fs'
import readline from 'node:readline'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'

// Keep stdout for the control channel: brolog writes info/verbose lines with console.info.
console.info = console.log = console.debug = (...args) => console.error(...args)

const t0 = process.hrtime.bigint()

const { values: argv } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.QUNGUAN_PEER_PORT },
    token: { type: 'string', default: process.env.QUNGUAN_PEER_TOKEN || 'qunguan-e2e-token' },
    'bot-id': { type: 'string', default: 'wxid_qunguan_bot' },
    'bot-name': { type: 'string', default: '群管机器人' },
    state: { type: 'string' },
    'no-login': { type: 'boolean', default: false },
  },
})
if (!argv.port) {
  console.error('usage: node peer.mjs --port PORT [--token T] [--bot-id ID] [--state FILE]')
  process.exit(2)
}

// The server refuses to start without TLS unless told so; the Python client speaks plaintext only.
process.env.WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER = 'true'
process.env.WECHATY_LOG = process.env.WECHATY_LOG || 'warn'

const PUPPET = await import('wechaty-puppet')
const { PuppetMock, mock } = await import('wechaty-puppet-mock')
const { PuppetServer } = await import('wechaty-puppet-service')
const { FileBox } = await import('file-box')

PUPPET.log.level(process.env.WECHATY_LOG)

/**
 * PuppetMock.messageSendText returns no message id (so Python's Message.say() fails with
 * "no id") and drops the mention list; this records the sent message with both.
 */
let sendDelayMs = 0 // set by the send_delay op: hold the reply to a send, as a slow gateway would

const roomAliases = new Map() // `${roomId}\n${contactId}` -> group nickname (set by the alias op)
// PuppetMock serves a friendship as `{id}` alone and only logs accepts and room adds: the
// requests the test made, and what the bot did with them, are kept here.
const friendships = new Map() // friendship id -> payload
const accepts = [] // {friendshipId, contactId}
const roomAdds = [] // {roomId, contactId}
const roomDels = [] // {roomId, contactId}
const images = new Map() // message id -> base64 of its picture (PuppetMock serves a fixed QR code)

class PuppetMockWithIds extends PuppetMock {
  // PuppetMock serves a member's name but never a group alias; serve the ones the test set.
  async roomMemberRawPayload (roomId, contactId) {
    const payload = await super.roomMemberRawPayload(roomId, contactId)
    const roomAlias = roomAliases.get(`${roomId}\n${contactId}`)
    return roomAlias ? { ...payload, roomAlias } : payload
  }

  async friendshipRawPayload (id) {
    const payload = friendships.get(id)
    if (!payload) throw new Error('no friendship ' + id)
    return payload
  }

  async friendshipAccept (friendshipId) {
    const payload = friendships.get(friendshipId)
    if (!payload) throw new Error('no friendship ' + friendshipId)
    const contact = this.mocker.ContactMock.load(payload.contactId)
    contact.payload.friend = true
    accepts.push({ friendshipId, contactId: payload.contactId })
    emitLine({ event: 'accepted', friendshipId, contactId: payload.contactId })
  }

  async roomAdd (roomId, contactId) {
    const room = this.mocker.RoomMock.load(roomId)
    if (!room.payload.memberIdList.includes(this.currentUserId)) {
      throw new Error('the bot is not a member of ' + roomId)
    }
    roomAdds.push({ roomId, contactId })
    // Adds the member and emits room-join, as WeChat does when the account pulls someone in.
    room.add(this.mocker.ContactMock.load(contactId)).by(this.mocker.ContactMock.load(this.currentUserId))
    emitLine({ event: 'room_add', roomId, contactId })
    saveState()
  }

  async messageImage (messageId, imageType) {
    const image = images.get(messageId)
    return image ? FileBox.fromBase64(image, 'image.png') : super.messageImage(messageId, imageType)
  }

  async roomDel (roomId, contactId) {
    const room = this.mocker.RoomMock.load(roomId)
    const self = this.currentUserId
    if (room.payload.ownerId !== self && !(room.payload.adminIdList || []).includes(self)) {
      throw new Error('the bot is neither owner nor admin of ' + roomId)
    }
    roomDels.push({ roomId, contactId })
    // Removes the member and emits room-leave, as WeChat does when an admin removes someone.
    room.remove(this.mocker.ContactMock.load(contactId)).by(this.mocker.ContactMock.load(self))
    emitLine({ event: 'room_del', roomId, contactId })
    saveState()
  }

  async messageSendText (conversationId, text, mentionIdList = []) {
    if (!this.isLoggedIn) {
      throw new Error('not logged in')
    }
    const base = {
      id: randomUUID(),
      talkerId: this.currentUserId,
      text,
      timestamp: Date.now(),
      type: PUPPET.types.Message.Text,
    }
    const payload = this.mocker.cacheRoomPayload.has(conversationId)
      ? { ...base, roomId: conversationId, mentionIdList: [...(mentionIdList || [])] }
      : { ...base, listenerId: this.mocker.ContactMock.load(conversationId).id }
    const msg = this.mocker.MessageMock.create(payload)
    this.emit('message', { messageId: msg.id })
    if (sendDelayMs > 0) await new Promise(resolve => setTimeout(resolve, sendDelayMs))
    return msg.id
  }
}

const mocker = new mock.Mocker()
const puppet = new PuppetMockWithIds({ mocker })

const emitLine = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

// ---- the world: contacts and rooms, optionally kept in a state file across restarts ----

const contactPayload = (id, name) => ({
  id,
  name,
  alias: undefined,
  avatar: '',
  friend: true,
  gender: PUPPET.types.ContactGender.Unknown,
  phone: [],
  type: PUPPET.types.Contact.Individual,
})

const saveState = () => {
  if (!argv.state) return
  const state = {
    contacts: [...mocker.cacheContactPayload.values()],
    rooms: [...mocker.cacheRoomPayload.values()],
  }
  const tmp = argv.state + '.tmp'
  fs.writeFileSync(tmp, JSON.stringify(state))
  fs.renameSync(tmp, argv.state)
}

const loadState = () => {
  if (!argv.state || !fs.existsSync(argv.state)) return
  const state = JSON.parse(fs.readFileSync(argv.state, 'utf8'))
  for (const payload of state.contacts) {
    if (!mocker.cacheContactPayload.has(payload.id)) mocker.ContactMock.create(payload)
  }
  for (const payload of state.rooms) {
    if (!mocker.cacheRoomPayload.has(payload.id)) mocker.RoomMock.create(payload)
  }
}

const bot = mocker.ContactMock.create(contactPayload(argv['bot-id'], argv['bot-name']))
loadState()
saveState()

// Every time the puppet starts (each Python client calls stop() then start()), log the bot in;
// with --no-login the account stays waiting for a QR scan, as a real one does before it logs in.
mocker.use(function loginBot (m) {
  if (argv['no-login']) {
    m.scan('qunguan-e2e-qrcode', PUPPET.types.ScanStatus.Waiting)
  } else {
    m.login(bot)
  }
  return () => {}
})

// What the bot sends comes back as a puppet `message` event whose talker is the bot.
const sent = []
puppet.on('message', ({ messageId }) => {
  const payload = mocker.cacheMessagePayload.get(messageId)
  if (!payload || payload.talkerId !== bot.id) return
  const message = {
    id: payload.id,
    roomId: payload.roomId || null,
    listenerId: payload.listenerId || null,
    text: payload.text ?? '',
    mentionIdList: payload.mentionIdList || [],
    type: PUPPET.types.Message[payload.type],
    timestamp: payload.timestamp,
  }
  sent.push(message)
  emitLine({ event: 'sent', message })
})

// ---- control operations ----

const contactOf = (id) => mocker.ContactMock.load(id === 'bot' ? bot.id : id)
const roomOf = (id) => mocker.RoomMock.load(id)

const KINDS = {
  text: PUPPET.types.Message.Text,
  image: PUPPET.types.Message.Image,
  voice: PUPPET.types.Message.Audio,
  video: PUPPET.types.Message.Video,
  emoticon: PUPPET.types.Message.Emoticon,
  file: PUPPET.types.Message.Attachment,
  url: PUPPET.types.Message.Url,
  jielong: PUPPET.types.Message.GroupNote, // a 接龙: WeChat's app message (type 49) of appmsg type 53
  recalled: PUPPET.types.Message.Recalled, // a recall (撤回): text is the recalled message's id
}

// A 接龙 as WeChat sends it: the list as shown is the app message's title.
const escapeXml = s => s.replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c])
const appmsg53 = list => `<msg><appmsg appid="" sdkver="0"><title>${escapeXml(list)}</title><des></des><type>53</type></appmsg></msg>`

const ops = {
  ping: () => ({ pong: true, botId: bot.id }),

  contact: ({ id, name }) => {
    const contact = mocker.ContactMock.create(contactPayload(id || 'wxid_' + randomUUID().slice(0, 8), name))
    saveState()
    return { id: contact.id, name }
  },

  room: ({ id, topic, members = [], withBot = true, owner }) => {
    const others = members.filter(m => m !== bot.id && m !== 'bot')
    const memberIdList = withBot ? [bot.id, ...others] : others
    for (const m of memberIdList) contactOf(m) // fail early on an unknown member
    const room = mocker.RoomMock.create({
      id: id || randomUUID().slice(0, 12) + '@chatroom',
      topic,
      memberIdList,
      adminIdList: [],
      avatar: '',
      ownerId: owner ? contactOf(owner).id : bot.id,
    })
    if (!room.id.includes('@')) {
      // The mock routes a conversation id without '@' to a contact.
      throw new Error('room id must contain @')
    }
    saveState()
    return { id: room.id, topic }
  },

  // ContactMock.say().to() gives no message id back, so build the message the same way here.
  say: ({ from, to, text, mentions = [], kind = 'text', id, image }) => {
    const talker = contactOf(from)
    const type = KINDS[kind]
    if (type === undefined) throw new Error('unknown kind ' + kind)
    const base = { id: id || randomUUID(), talkerId: talker.id, timestamp: Date.now(), type }
    if (kind === 'text' || kind === 'recalled') base.text = text ?? ''
    if (kind === 'jielong') base.text = appmsg53(text ?? '')
    const payload = mocker.cacheRoomPayload.has(to)
      ? { ...base, roomId: roomOf(to).id, mentionIdList: mentions.map(m => contactOf(m).id) }
      : { ...base, listenerId: contactOf(to).id }
    const msg = mocker.MessageMock.create(payload)
    if (image) images.set(msg.id, image)
    puppet.emit('message', { messageId: msg.id })
    return { messageId: msg.id }
  },

  // A server may deliver the same message event again (e.g. after a reconnect).
  redeliver: ({ messageId }) => {
    mocker.MessageMock.load(messageId)
    puppet.emit('message', { messageId })
    return {}
  },

  add: ({ room, members, by }) => {
    roomOf(room).add(...members.map(contactOf)).by(contactOf(by))
    saveState()
    return {}
  },

  remove: ({ room, members, by }) => {
    roomOf(room).remove(...members.map(contactOf)).by(contactOf(by ?? members[0]))
    saveState()
    return {}
  },

  quit: ({ room, member }) => {
    const list = roomOf(room).payload.memberIdList
    const index = list.indexOf(contactOf(member).id)
    if (index < 0) throw new Error(member + ' is not in ' + room)
    list.splice(index, 1)
    saveState()
    return {}
  },

  alias: ({ room, member, alias }) => {
    roomAliases.set(`${roomOf(room).id}\n${contactOf(member).id}`, alias)
    return {}
  },

  topic: ({ room, topic, by }) => {
    roomOf(room).topic(topic).by(contactOf(by))
    saveState()
    return {}
  },

  sent: () => sent,

  // The account logs out (as when the phone ends the session) and back in.
  logout: () => {
    void puppet.logout('logged out by the e2e test')
    return {}
  },
  login: () => {
    mocker.login(bot)
    return {}
  },

  friend_request: ({ from, name, hello, id }) => {
    const contact = mocker.cacheContactPayload.has(from)
      ? contactOf(from)
      : mocker.ContactMock.create({ ...contactPayload(from, name || from), friend: false })
    const payload = {
      id: id || 'fr_' + randomUUID().slice(0, 8),
      contactId: contact.id,
      hello: hello ?? '',
      type: PUPPET.types.Friendship.Receive,
      timestamp: Date.now(),
      ticket: '',
      stranger: '',
    }
    friendships.set(payload.id, payload)
    saveState()
    puppet.emit('friendship', { friendshipId: payload.id })
    return { friendshipId: payload.id }
  },

  accepts: () => accepts,
  room_adds: () => roomAdds,
  room_dels: () => roomDels,

  send_delay: ({ ms }) => {
    sendDelayMs = Number(ms) || 0
    return {}
  },
}

// ---- start ----

const server = new PuppetServer({
  endpoint: `127.0.0.1:${argv.port}`,
  puppet,
  token: argv.token,
})

let stopping = false
const shutdown = async (code = 0) => {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await puppet.stop()
  } catch (e) {
    console.error('peer: shutdown', e)
  }
  process.exit(code)
}
process.on('SIGTERM', () => shutdown(0))
process.on('SIGINT', () => shutdown(0))

try {
  await server.start()
} catch (e) {
  console.error('peer: server start failed:', e)
  process.exit(1)
}

const readyMs = Number(process.hrtime.bigint() - t0) / 1e6
emitLine({ event: 'ready', port: Number(argv.port), botId: bot.id, botName: argv['bot-name'], readyMs })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', (line) => {
  if (!line.trim()) return
  let req
  try {
    req = JSON.parse(line)
  } catch (e) {
    emitLine({ req: null, ok: false, error: 'bad json: ' + e.message })
    return
  }
  try {
    const fn = ops[req.op]
    if (!fn) throw new Error('unknown op ' + req.op)
    emitLine({ req: req.req, ok: true, result: fn(req) })
  } catch (e) {
    emitLine({ req: req.req, ok: false, error: String(e && e.message ? e.message : e) })
  }
})
rl.on('close', () => shutdown(0))
