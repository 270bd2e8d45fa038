/**
 * The mock puppet behind the gateway: a WeChat without an account, to try qunguan (and to test
 * the gateway) with. A bot account logs in as soon as a client starts the puppet, and the
 * mock world is driven by JSON lines on the gateway's stdin:
 *
 *   {"op":"contact","id":"wxid_alice","name":"Alice"}
 *   {"op":"room","id":"r1@chatroom","topic":"读书群","members":["wxid_alice"]}   (the bot is in it)
 *   {"op":"say","from":"wxid_alice","to":"r1@chatroom","text":"打卡"}          (to: a room, a contact or "bot")
 *   {"op":"add","room":"r1@chatroom","members":["wxid_bob"],"by":"wxid_alice"}
 *
 * Each request is answered with {"req", "ok", "result" | "error"} on stdout (`req` echoed), and
 * every message the bot sends is printed as {"event":"sent","message":{roomId, listenerId, text}}.
 * Options (WECHATY_PUPPET_OPTIONS): botId (wxid_qunguan_bot), botName (群管机器人).
 */
import readline from 'node:readline'
import { mock } from 'wechaty-puppet-mock'

export const mockPuppet = (PuppetMock, { botId = 'wxid_qunguan_bot', botName = '群管机器人' } = {}) => {
  const mocker = new mock.Mocker()
  const puppet = new PuppetMock({ mocker })
  const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
  const bot = mocker.createContact({ id: botId, name: botName, friend: true })
  // Every client start() starts the puppet again: log the bot in each time, as the peer does.
  mocker.use(m => { m.login(bot); return () => {} })

  puppet.on('message', ({ messageId }) => {
    const m = mocker.cacheMessagePayload.get(messageId)
    if (m && m.talkerId === bot.id) {
      emit({ event: 'sent', message: { id: m.id, roomId: m.roomId || null, listenerId: m.listenerId || null, text: m.text ?? '' } })
    }
  })

  const contact = (id) => mocker.ContactMock.load(id === 'bot' ? bot.id : id)
  const ops = {
    contact: ({ id, name }) => ({ id: mocker.createContact({ id, name, friend: true }).id }),
    room: ({ id, topic, members = [] }) => {
      if (!id || !id.includes('@')) throw new Error('a room id must contain @ (e.g. r1@chatroom)')
      for (const m of members) contact(m) // fails on an unknown member
      mocker.createRoom({ id, topic, memberIdList: [bot.id, ...members], ownerId: bot.id, adminIdList: [] })
      return { id }
    },
    say: ({ from, to, text, mentions = [] }) => {
      const conversation = mocker.cacheRoomPayload.has(to) ? mocker.RoomMock.load(to) : contact(to)
      contact(from).say(text, mentions.map(contact)).to(conversation)
      return {}
    },
    add: ({ room, members, by }) => {
      mocker.RoomMock.load(room).add(...members.map(contact)).by(contact(by))
      return {}
    },
  }
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (!line.trim()) return
    let req = {}
    try {
      req = JSON.parse(line)
      const op = ops[req.op]
      if (!op) throw new Error(`unknown op ${req.op}: one of ${Object.keys(ops).join(', ')}`)
      emit({ req: req.req ?? null, ok: true, result: op(req) })
    } catch (e) {
      emit({ req: req.req ?? null, ok: false, error: String(e && e.message ? e.message : e) })
    }
  })
  return puppet
}
